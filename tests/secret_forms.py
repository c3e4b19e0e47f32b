"""The URI forms the secret sweeps run through every place a URI is written or shown (tests only)."""
SECRET = "S3cr3tXyZq"

#: (id, URI, whether pymongo/mongomock accept it as written)
FORMS = [
    ("userinfo", f"mongodb://alice:{SECRET}@localhost:27017/hs", True),
    ("password_option", f"mongodb://localhost:27017/hs?password={SECRET}", True),
    ("PASSWORD_upper", f"mongodb://localhost:27017/hs?PASSWORD={SECRET}&appName=x", True),
    ("tls_key_password", f"mongodb://localhost:27017/hs?tlsCertificateKeyFilePassword={SECRET}", True),
    ("aws_session_token", "mongodb://localhost:27017/hs?authMechanism=MONGODB-AWS&authMechanismProperties="
                          f"AWS_SESSION_TOKEN:{SECRET}", True),
    ("token_option", f"mongodb://localhost:27017/hs?myApiToken={SECRET}", True),
    ("secret_option", f"mongodb://localhost:27017/hs?clientSecret={SECRET}", True),
    ("unescaped_question", f"mongodb://alice:pa?{SECRET}@localhost:27017/hs", False),
    ("unescaped_at", f"mongodb://alice:pa@{SECRET}@localhost:27017/hs", False),
    ("unescaped_slash", f"mongodb://alice:pa/{SECRET}@localhost:27017/hs", False),
]
IDS = [f[0] for f in FORMS]


def unreachable_client_class():
    """A real pymongo client class whose server never answers and whose error quotes the URI as given (what a
    driver may do): the sweeps check that the secret in it never reaches the user."""
    import pymongo
    from pymongo.errors import ServerSelectionTimeoutError

    class Unreachable(pymongo.MongoClient):
        def __init__(self, host, **kw):
            self._uri = host
            super().__init__(host, connect=False, **kw)

        @property
        def admin(self):
            raise ServerSelectionTimeoutError(f"{self._uri}: timed out, Timeout: 3.0s, Topology Description: x")

    return Unreachable
