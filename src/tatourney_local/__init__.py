"""The local stack: memcached and DynamoDB Local on loopback, for tests, `make up`, the bench."""
