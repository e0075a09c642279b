"""Hardware in the loop: Modbus meter emulation and reading, real-time runs, bench files, signed
meter values.

* :mod:`hil.registermap` - meter register maps as data (``hil/maps/*.yaml``);
* :mod:`hil.emulator` - Modbus TCP/RTU servers serving simulated meters through a map;
* :mod:`hil.reader` - polling real meters by the same maps;
  :mod:`hil.measured_meter` feeds what they measure into a simulated station;
* :mod:`hil.observer`, :mod:`hil.samples`, :mod:`hil.comparison`, :mod:`hil.signed` - the OCPP
  endpoint for real chargers, their meter samples, comparison with a reference meter, OCMF
  verification;
* :mod:`hil.bench`, :mod:`hil.runner`, :mod:`hil.realtime` - bench files, real-time runs, the
  lateness budget. User guide: ``docs/hil.md``.
"""
