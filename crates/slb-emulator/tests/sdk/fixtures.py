"""What both SDK lifecycles upload: a self-signed EC P-256 certificate and its private key in PEM form, generated
once with openssl. The emulator parses both and refuses a key that does not match the certificate."""

CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBezCCASGgAwIBAgIUf/tv/w/OQk3GLKe0u0O+MHHGHcowCgYIKoZIzj0EAwIw\n"
    "EjEQMA4GA1UEAwwHZWMudGVzdDAgFw0yNjEyMDYxNDIwMDNaGA8yMTI2MTExMjE0\n"
    "MjAwM1owEjEQMA4GA1UEAwwHZWMudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABFlQu5dOwBx5Yvjz66awxDOg++a0gP7x+DRgH/M5vItnGPUgz05x6SezYlyF\n"
    "uOTcrTIPOM+2L/nNPcDJBY5AqUGjUzBRMB0GA1UdDgQWBBSbPxbOhoqXMFsk4WyA\n"
    "Wx5XHWCZ5TAfBgNVHSMEGDAWgBSbPxbOhoqXMFsk4WyAWx5XHWCZ5TAPBgNVHRMB\n"
    "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIG782nFQd8d5pc7i9rKa5s3McM8y\n"
    "CNbuamGvzqrI2jJ7AiEAwTZhvMOLC1G3vbcrt1vlhPmijyuxfriomgyjX0xDrsc=\n"
    "-----END CERTIFICATE-----\n"
)
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7Ku4SQkVQXq2KdSD\n"
    "pI2vUZkwNurYLbu7kYjWvKUdLMOhRANCAARZULuXTsAceWL48+umsMQzoPvmtID+\n"
    "8fg0YB/zObyLZxj1IM9Ocekns2Jchbjk3K0yDzjPti/5zT3AyQWOQKlB\n"
    "-----END PRIVATE KEY-----\n"
)
