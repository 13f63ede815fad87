"""Recognition (典型选树): one application workflow for several programmes, reviewer
assignment through the matching engine, public notice and results, and the public case
library."""
