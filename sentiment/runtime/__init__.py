"""How scoring uses the hardware: length-sorted batches, the device, threads and number format."""
