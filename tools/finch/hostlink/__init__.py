"""The host link: the framed request/response protocol on the guest's COM2.

    codec     frames <-> bytes, and a decoder that resynchronises after damage
    messages  the payload of each message type
    client    HostLink: connect to the unix socket, request(), call(), events
    errors    how an exchange fails: what happened and what to do

docs/hostlink.md is the specification the kernel side implements.
"""
