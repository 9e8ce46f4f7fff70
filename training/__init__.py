"""training: the StyleGAN2 trainer that produces the networks the explorer loads.

Datasets (folder or zip, labels), losses (non-saturating logistic, lazy R1 and path-length
regularization, style mixing), the training loop (EMA, snapshots, resume, DDP via torchrun) and the
`stylegan2-train` command. Never imports Qt.
"""
