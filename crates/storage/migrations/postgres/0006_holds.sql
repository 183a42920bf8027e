-- holds: reserved for the holds work (issue 4).
SELECT 1;
