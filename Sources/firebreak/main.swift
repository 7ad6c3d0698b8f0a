import VectorMath
print(BLAS.library)
print(BLAS.measureSgemmGFLOPs(threads: 2))
