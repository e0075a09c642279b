"""Hardware in the loop: Modbus meter emulation and reading, real-time runs, bench files, signed
meter values. Lands with issue 9."""
