"""Three-party reconciliation: link the US pipeline, UNHCR and Pakistani lists, explain every
link, and keep people's review decisions. See docs/reconciliation.md."""
