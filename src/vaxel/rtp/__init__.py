"""Sans-I/O RTP and RTCP (P5; RFC 3550, 3551, 4733): bytes in, bytes out, time passed in.

`packet` parses and builds RTP headers and keeps a B2BUA's outgoing stream continuous,
`g711` converts G.711 A-law and µ-law with numpy lookup tables, `dtmf` reads and writes
telephone-events, `rtcp` keeps reception statistics and builds and parses reports, and
`mixer` mixes a conference room (everyone hears everyone else, each in its own law).
"""
