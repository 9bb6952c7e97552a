"""Connecting the organization's accounts from the pages: each platform's sign-in (OAuth), app passwords,
mail server settings and generated webhook secrets, ending in the channel's first test."""
