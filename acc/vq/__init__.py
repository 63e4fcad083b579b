"""Vector quantisation: quantizers (EMA, learned, residual), codebook health and dynamics."""

from acc.vq.quantizer import ResidualVQ, VectorQuantizer, VectorQuantizerEMA

__all__ = ["ResidualVQ", "VectorQuantizer", "VectorQuantizerEMA"]
