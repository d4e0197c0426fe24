"""Talking to hardware only: AT channel, modem drivers, GNSS sources, port discovery, simulated devices.

Imports nothing from the other Qamtu packages.
"""
