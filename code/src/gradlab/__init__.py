"""gradlab: a small NumPy laboratory for exploding gradients and gradient clipping.

Layers, from the bottom: ``errors``, ``validate``, ``functional``, ``report``, ``stats`` → ``nn``,
``losses``, ``data`` → ``rnn``, ``clip``, ``gradcheck`` → ``clip_adaptive``, ``clip_private``,
``clip_sharded`` → ``optim`` → ``train``, ``cliff`` → ``experiments`` → ``plots`` → ``charts``
→ ``widgets`` (``mystnb_vega``, over ``charts``, is the website build's myst-nb plugin);
beside them the course machinery: ``plain`` → ``harness`` → ``judging`` → ``exercises`` →
``checks``; ``editions`` → ``local_edition``; ``submissions``, ``sandbox``, ``scoresheet`` →
``grade``.
Importing ``gradlab`` loads only the NumPy layers; import ``gradlab.plots``, ``gradlab.charts``
or ``gradlab.widgets`` for matplotlib, Altair and ipywidgets.
"""

from . import clip, cliff, data, functional, gradcheck, losses, nn, optim, rnn, train
from .nn import Parameter

__version__ = "0.1.0"
__all__ = ["Parameter", "clip", "cliff", "data", "functional", "gradcheck", "losses", "nn",
           "optim", "rnn", "train"]
