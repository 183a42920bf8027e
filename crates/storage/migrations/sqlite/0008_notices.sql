-- notices: reserved for the notices work (issue 4).
SELECT 1;
