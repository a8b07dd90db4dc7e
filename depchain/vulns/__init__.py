"""Known vulnerabilities: the source interface (:mod:`.interface`), depchain's offline
OSV source (:mod:`.osv`), pip-audit's services (:mod:`.pipaudit`), and the audit that
runs them over a graph (:mod:`.audit`). Imported only when a scan audits."""
