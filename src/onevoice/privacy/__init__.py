"""Privacy operations: a person's data erased or handed over (erasure, access), retention of message content,
and the backups an operator takes. See docs/privacy.md."""
