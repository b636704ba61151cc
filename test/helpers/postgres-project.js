// Set for every test file of the `postgres` jest project (see jest.config.js and db.ts).
process.env.DLR_TEST_DB = 'postgres';
