"""Production security settings that tests otherwise relax."""

from accord import settings as accord_settings


def test_passwords_are_hashed_with_argon2():
    assert accord_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_passwords_need_ten_characters_and_are_checked_against_common_ones():
    validators = {v["NAME"].rsplit(".", 1)[1]: v for v in accord_settings.AUTH_PASSWORD_VALIDATORS}
    assert validators["MinimumLengthValidator"]["OPTIONS"]["min_length"] == 10
    assert "CommonPasswordValidator" in validators
