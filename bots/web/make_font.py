"""Make the website's Khmer font: Noto Sans Khmer (SIL OFL, from the ``fontpkg-noto-sans-khmer`` wheel) at
regular weight, cut down to the Khmer blocks and joiners, as WOFF (zlib: no brotli needed).

The result is committed (``static/noto-sans-khmer.woff``, ~23 KB instead of 360 KB for the variable TTF), so the
running app needs neither package. Run again only to change the cut::

    pip install fontpkg-noto-sans-khmer fonttools && python -m bots.web.make_font
"""

from __future__ import annotations

import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "static" / "noto-sans-khmer.woff"
# Khmer, Khmer Symbols, zero-width space/joiners (Khmer has no spaces between words: ZWSP marks line breaks),
# and the dotted circle a shaper shows under a lone vowel sign.
UNICODES = [*range(0x1780, 0x1800), *range(0x19E0, 0x1A00), 0x200B, 0x200C, 0x200D, 0x25CC]


def main() -> None:
    import fontpkg_noto_sans_khmer
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    source = Path(fontpkg_noto_sans_khmer.__file__).parent / "files" / "NotoSansKhmer[wdth,wght].ttf"
    regular = instancer.instantiateVariableFont(TTFont(source), {"wght": 400, "wdth": 100})
    with tempfile.TemporaryDirectory() as tmp:
        flat = Path(tmp) / "regular.ttf"
        regular.save(flat)
        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]  # every shaping feature: Khmer needs its subscripts and reordering
        options.name_IDs = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(flat), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=UNICODES)
        subsetter.subset(font)
        subset.save_font(font, str(OUT), options)
    print(f"{OUT.name}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
