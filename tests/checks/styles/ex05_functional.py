"""ex05 in another style: 0-d tensors returned, functional mse_loss, nn.Parameter, float64 inside descend_scalar."""

import torch
def manual_gd(x_train, y_train, lr=0.15, epochs=10):
    W = torch.tensor(0.0, dtype=x_train.dtype, device=x_train.device)
    m = x_train.shape[0]
    out = []
    for _ in range(epochs + 1):
        cost = ((x_train * W - y_train) ** 2).sum() / m
        out.append((W.clone(), cost))
        W -= lr * (2.0 / m) * ((W * x_train - y_train) * x_train).sum()
    return out
def optim_gd(x_train, y_train, lr=0.15, epochs=10):
    W = torch.nn.Parameter(torch.zeros((), dtype=x_train.dtype, device=x_train.device))
    opt = torch.optim.SGD([W], lr=lr)
    out = []
    for _ in range(epochs + 1):
        cost = torch.nn.functional.mse_loss(W * x_train, y_train)
        out.append((W.detach().clone(), cost.detach()))
        opt.zero_grad(); cost.backward(); opt.step()
    return out
def fit_linear(x, y, lr=0.01, epochs=100):
    w = torch.tensor(0.0, dtype=x.dtype, device=x.device, requires_grad=True)
    b = torch.tensor(0.0, dtype=x.dtype, device=x.device, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = torch.nn.MSELoss()(x * w + b, y)
        loss.backward()
        losses.append(loss.detach())
        with torch.no_grad():
            w.sub_(lr * w.grad); b.sub_(lr * b.grad)
            w.grad = None; b.grad = None
    return w.detach(), b.detach(), losses
def mse(y_true, y_pred):
    return torch.nn.functional.mse_loss(y_pred, y_true)
def equivalent_lr(lr_sum, m):
    return 0.5 * m * lr_sum
def descend_scalar(x0=5.0, lr=0.1, steps=10):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        y = (x - 3) ** 2 + 4
        y.backward()
        opt.step()
        out.append((y.detach(), x.grad.detach().clone(), x.detach().clone()))
    return out
