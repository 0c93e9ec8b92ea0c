-- Problems whose search tokens are still to be filled (stored before keyword search existed).
-- Every start looks for them: without an index that read the whole table (8 s at 3.3 million
-- problems on SQLite, before the server answered). This index holds only those, so once they
-- are filled the look is one seek; a filed problem carries its tokens and never enters it.
CREATE INDEX problems_unsearchable ON problems (id) WHERE search_text = '';
