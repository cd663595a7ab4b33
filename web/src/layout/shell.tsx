import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { api } from "../api/client.ts";
import { useSession } from "../auth/session.tsx";

/** The frame of every signed-in page: a skip link, the main navigation and the signed-in user. */
export function Shell() {
  const { user, can } = useSession();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  // the narrow-screen menu closes once a link in it has been followed
  const [path, setPath] = useState(location.pathname);
  if (path !== location.pathname) {
    setPath(location.pathname);
    setOpen(false);
  }
  const signOut = async () => {
    await api.delete("/session").catch(() => undefined);
    client.clear();
    await client.invalidateQueries({ queryKey: ["me"] });
    window.location.assign("/");
  };
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/incidents" className="brand">
          blastradius
        </NavLink>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpen(!open)}
        >
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={open ? "open" : ""}>
          <NavLink to="/incidents">Incidents</NavLink>
          <NavLink to="/vendors">Vendors</NavLink>
          <NavLink to="/audit">Audit log</NavLink>
          {can("admin") ? <NavLink to="/users">Users</NavLink> : null}
          <NavLink to="/account" title={user.email}>
            Account
          </NavLink>
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
