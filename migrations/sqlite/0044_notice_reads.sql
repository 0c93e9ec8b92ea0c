-- PostgreSQL only: an index of the problems that can be late, read by the weekly notice without
-- its rows, and lz4 for the notice's figures. SQLite reads a week's late problems by the found
-- index in 40-50 ms and would not take a partial index for the notice's condition (an OR of two
-- terms); it does not compress.
SELECT 1;
