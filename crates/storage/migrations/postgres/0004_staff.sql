-- staff: reserved for the staff work (issue 4).
SELECT 1;
