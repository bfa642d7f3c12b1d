"""The gateway's inference semantics: catalog, token estimate, replies, chat, streams, embeddings.

Pure logic: requests and settings in, values out. The HTTP side lives in
:mod:`mockserver.handlers.inference`.
"""
