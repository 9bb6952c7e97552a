"""The case desk: the case page and what people do on it (reply, note, hand off, correct triage) and the
approvals queue. It sits above the records (cases, messages), the flow (outbox) and the work it draws on
(approvals, governance, inbox), so those never import it."""
