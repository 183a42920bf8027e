-- ledger: reserved for the ledger work (issue 4).
SELECT 1;
