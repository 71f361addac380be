-- Registry: forget one pilot's metrics before the file's list replaces them.
DELETE FROM pilot_metrics WHERE pilot_code = $pilot_code
