"""The credentials every test serves with (the root conftest exports them): one service key
with every scope, one per single scope, and the token signing secret."""

TEST_KEY = "test-key-with-every-scope-0000000001"
READ_KEY = "test-key-meetings-read-000000000002"
WRITE_KEY = "test-key-meetings-write-00000000003"
MINT_KEY = "test-key-tokens-mint-0000000000004"
SIGNING_SECRET = "test-signing-secret-0123456789abcdefghij"
API_KEYS = f"{TEST_KEY},{READ_KEY}=meetings:read,{WRITE_KEY}=meetings:write,{MINT_KEY}=tokens:mint"
