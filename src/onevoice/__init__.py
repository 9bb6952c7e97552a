"""OneVoice: the whole organization on social media, speaking with one voice."""

__version__ = "0.1.0"
