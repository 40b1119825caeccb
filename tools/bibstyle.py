"""Sphinx extension: the bibliography's labels read as the text cites, "Pascanu et al., 2013".

``bibtex_reference_style: author_year`` makes the citations in the text author-year, but the
list on the bibliography page keeps its formatting style's labels (``[PMB13]`` for alpha).
This registers the pybtex formatting style ``authoryear``: pybtex's ``unsrt`` formatting with
author-year labels (a letter added where two entries would share one) and titles as written
(``unsrt`` sentence-cases them: "Torch.nn.utils", "Tensorflow"), and makes it the default. Registered in _config.yml under ``sphinx: local_extensions``.
"""

from collections import Counter

import pybtex.plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import field, sentence


def _surname(person):
    return " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")


def author_year(entry):
    """``Surname, 2013``, ``A and B, 2013`` or ``A et al., 2013``."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(person) for person in people]
    if not names:
        names = [entry.fields.get("organization") or entry.fields.get("title", entry.key)]
        names = [names[0].replace("{", "").replace("}", "")]
    who = (names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2
           else f"{names[0]} et al.")
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [author_year(entry) for entry in sorted_entries]
        repeated, seen = Counter(labels), Counter()
        for label in labels:
            if repeated[label] > 1:
                seen[label] += 1
                label = f"{label}{'abcdefghijklmnopqrstuvwxyz'[seen[label] - 1]}"
            yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"

    def format_title(self, e, which_field, as_sentence=True):
        title = field(which_field)
        return sentence[title] if as_sentence else title


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
