// Package layers holds the network building blocks of CycleGAN as modules
// with parameters: Conv2d, ConvTranspose2d, InstanceNorm2d, ReflectionPad2d,
// ReLU, LeakyReLU, Tanh, ResnetBlock and Sequential.
//
// Modules mirror torch.nn: the same constructor arguments, the same
// state-dict parameter names (Params), and a Sequential whose layers are
// addressed by index, because GradCAM names its target layers by index.
// New weights are drawn from N(0, 0.02²) by an explicit random source and
// biases start at zero, as pytorch-CycleGAN-and-pix2pix's init_weights.
package layers
