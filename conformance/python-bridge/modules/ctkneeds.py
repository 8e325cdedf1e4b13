import surely_not_installed_dependency  # noqa: F401
