"""Settlement names: cleaning KATO names and folding spellings for search.

KATO names carry type markers ("с.Акдала", "Ақдала а.", "г.Туркестан"). Search must find a place
whichever way the inspector types it: Kazakh letters or their Russian look-alikes ("Шубарсу" finds
"Шұбарсу"), Cyrillic or Latin ("Turkistan" finds "Түркістан"), any case. Every spelling is reduced
to a Latin *search key*; two spellings match when one key contains the other.
"""

from __future__ import annotations

import re
import unicodedata

#: Kazakh letters folded to the Russian letter people type instead.
KAZAKH_TO_RUSSIAN = str.maketrans({
    "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и", "ё": "е",
})

#: Cyrillic (after Kazakh folding) to a simple Latin key. Soft and hard signs vanish.
CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "",
    "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}

#: Latin spellings that name the same sound differently (Kazakh Latin, Turkish-style, English).
LATIN_FOLDS = [
    ("ş", "sh"), ("ç", "ch"), ("ğ", "g"), ("ı", "i"), ("ä", "a"), ("ö", "o"), ("ü", "u"), ("ñ", "n"),
    ("j", "zh"), ("q", "k"), ("x", "kh"), ("h", "kh"), ("w", "u"), ("c", "ts"),
]

# A key is reduced further so that transliteration variants collide: kh/h, y/i, e/i (Türkistan,
# Turkestan), doubled letters. This makes the key coarse on purpose: it is only for finding.
_COARSE = [("kkh", "kh"), ("kh", "h"), ("zh", "j"), ("y", "i"), ("e", "i"), ("yu", "iu"), ("ya", "ia")]

_PREFIX = re.compile(r"^(г\.|с\.|п\.|ст\.)\s*", re.IGNORECASE)
_SUFFIX = re.compile(r"\s+(қ\.|а\.|к\.|ст\.)$", re.IGNORECASE)


def clean_kato_name(name: str) -> str:
    """Drop the type marker of a KATO name: "с.Акдала" -> "Акдала", "Ақдала а." -> "Ақдала"."""
    name = " ".join(name.split())
    return _SUFFIX.sub("", _PREFIX.sub("", name)).strip()


def search_key(text: str) -> str:
    """Latin letters and digits only, variants folded: the form two spellings are compared in."""
    s = unicodedata.normalize("NFC", text).lower().translate(KAZAKH_TO_RUSSIAN)
    s = "".join(CYRILLIC_TO_LATIN.get(ch, ch) for ch in s)
    s = unicodedata.normalize("NFC", s)
    for a, b in LATIN_FOLDS:
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if ch.isascii() and ch.isalnum())
    for a, b in _COARSE:
        s = s.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", s)


_REGION_WORDS = ("облысы", "область", "обл", "г", "қ", "city", "region", "oblast")


def region_name_matches(text: str, names: tuple[str, ...] | list[str]) -> bool:
    """Does ``text`` name the region with these names? "Turkistan", "Туркестанская", "Жамбыл",
    "Shymkent" all match; the words for region/city are ignored, a prefix of 4 or more letters
    is enough."""
    key = search_key(text)
    if len(key) < 3:
        return False
    for name in names:
        words = [w for w in name.replace(".", " ").split() if w.lower() not in _REGION_WORDS]
        stem = search_key(" ".join(words))
        if stem and (key == stem or (len(key) >= 4 and (stem.startswith(key) or key.startswith(stem[:5])))):
            return True
    return False
