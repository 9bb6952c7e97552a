"""Reports for line managers and executives: service, collaboration, reputation, advocacy, leads and the
return of each team, computed from what the pipeline and the pages record (events, cases, messages)."""
