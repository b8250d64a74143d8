"""Local stand-ins for the outside world (payment gateway, carrier): asynchronous HTTP servers on
loopback that the shop reaches only through its adapters. See simulators/README.md."""
