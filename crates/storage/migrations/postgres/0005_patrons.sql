-- patrons: reserved for the patrons work (issue 4).
SELECT 1;
