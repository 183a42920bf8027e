-- Reserved for another branch of issue 7; the lead replaces this file when merging.
SELECT 1;
