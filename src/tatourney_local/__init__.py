"""The local stack: memcached and DynamoDB Local on loopback, used by tests, `make up` and the bench."""
