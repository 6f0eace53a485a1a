"""Status texts for people, in English, Dari, Pashto and Urdu, chosen by Accept-Language."""

from i18n.catalogue import LANGUAGES, text
from i18n.negotiation import negotiate

__all__ = ["LANGUAGES", "negotiate", "text"]
