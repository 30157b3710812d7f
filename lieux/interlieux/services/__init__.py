"""Use cases of the Pass Interlieux, one module each: keys, credentials, devices, the access check, the
offline allow-list and the upload of offline passages."""
