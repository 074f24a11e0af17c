"""GANs of the workflow: DiStyleGAN (networks, losses, training, sampling) and teacher generators.

* :mod:`synthcal.gan.networks` - DiStyleGAN generator and discriminator (the authors' state_dict layout).
* :mod:`synthcal.gan.losses` - the distillation and hinge-GAN objectives.
* :mod:`synthcal.gan.train` - deterministic, resumable training (distillation, or a plain conditional GAN).
* :mod:`synthcal.gan.teachers` - teacher providers (StyleGAN2-ADA pickle, TorchScript, dump import, trained).
* :mod:`synthcal.gan.dump` - the teacher dump (images + noise + labels) and sampling to calibration folders.
"""
