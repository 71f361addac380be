-- Registry: forget one pilot's control sites before the file's list replaces them.
DELETE FROM pilot_control_sites WHERE pilot_code = $pilot_code
