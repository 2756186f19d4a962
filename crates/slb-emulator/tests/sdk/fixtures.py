"""What both SDK lifecycles upload: a certificate and a key in PEM form. The emulator checks the PEM framing and
the base64, not the DER inside, so these are short placeholders."""

CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQk9HVVNURVNUQ0VSVElGSUNBVEUwCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n"
)
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
    "-----END PRIVATE KEY-----\n"
)
