"""FIX 4.4 codec, compiled in Rust: frame, check and encode tag=value messages.

::

    from pyengine.fix import FixFramer, FixSessionReject, encode_fix

    framer = FixFramer(sender_comp_id="CLIENT", target_comp_id="GW")
    framer.push(data)
    while (msg := framer.next()) is not None:  # may raise FixDisconnect / FixGarbled / FixSessionReject
        ...

- FixDisconnect: the stream cannot be framed; disconnect (the framer stays failed).
- FixGarbled: a message with a bad CheckSum/BodyLength was dropped; ignore it and call next() again.
- FixSessionReject: answer with Reject (35=3) from .reason, .ref_tag, .ref_msg_type, .ref_seq_num, .text;
  the message counts as received; call next() again.
"""

from pyengine._engine import (
    FixDisconnect,
    FixFramer,
    FixGarbled,
    FixMessage,
    FixSessionReject,
    encode_fix,
)

__all__ = [
    "FixDisconnect",
    "FixFramer",
    "FixGarbled",
    "FixMessage",
    "FixSessionReject",
    "encode_fix",
]
