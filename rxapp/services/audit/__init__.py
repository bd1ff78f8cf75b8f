"""What happened and what needs a person: the audit trail written in each use case's transaction
(`trail.record`), the audit page's filtered, paged and exported entries (`entries`), and the owner's
Needs attention lists (`attention`).

May import: the leaves, `notify` (failed messages, SMS credits)."""
