"""shadan (情報遮断): the information firewall for Japan's T&D operators."""

__version__ = "0.1.0"
