from tests.documents.conftest import deal, files_apart, our_company  # noqa: F401 — shared fixtures
