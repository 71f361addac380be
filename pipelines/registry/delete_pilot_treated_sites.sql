-- Registry: forget one pilot's treated sites before the file's list replaces them.
DELETE FROM pilot_treated_sites WHERE pilot_code = $pilot_code
