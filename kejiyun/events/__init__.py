"""Service conferences and docking events (科创中国·天府科技云服务大会, a city's 科创会): exhibits
collected from the centres, on-site docking slots with sign-up and check-in codes, and the
agreements signed on site, recorded as dockings and outcomes on the cases they belong to."""
